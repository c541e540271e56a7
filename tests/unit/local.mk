# tests/unit: filled in as the parts land

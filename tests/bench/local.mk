# tests/bench: filled in as the parts land

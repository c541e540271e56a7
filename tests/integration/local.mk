# tests/integration: filled in as the parts land

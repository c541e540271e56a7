# tests/fuzz: filled in as the parts land

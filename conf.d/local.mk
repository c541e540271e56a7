# conf.d: filled in as the parts land

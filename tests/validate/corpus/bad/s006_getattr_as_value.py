# expect: S006 line 2
g = getattr

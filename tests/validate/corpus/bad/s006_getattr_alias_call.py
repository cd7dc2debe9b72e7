# expect: S006 line 2
fetch = getattr

# expect: S006 line 2
names = list(map(getattr, [object], ['x']))

# expect: S010 line 2
globals()['x'] = 1

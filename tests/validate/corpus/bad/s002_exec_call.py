# expect: S002 line 2
exec('x = 1')

# expect: S002 line 2
e = eval

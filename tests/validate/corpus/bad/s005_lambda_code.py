# expect: S005 line 2
code = (lambda: 0).__code__

# expect: S005 line 2
b = __builtins__

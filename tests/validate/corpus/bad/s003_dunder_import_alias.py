# expect: S003 line 2
loader = __import__

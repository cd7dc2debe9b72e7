# expect: S005 line 6 col 7
def f():
    pass


ns = f.__globals__

# expect: S005 line 3
def cells(fn):
    return fn.__closure__

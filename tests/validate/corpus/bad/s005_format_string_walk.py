# expect: S005 line 3 col 11
def leak(fn):
    return "{0.__globals__}".format(fn)

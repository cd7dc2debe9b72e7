# expect: S005 line 3 col 24
def grab(obj):
    return getattr(obj, '__globals__')

# expect: S006 line 3
def reach(fn):
    return getattr(fn, '__' + 'glob' + 'als__')

# expect: S010 line 3
def dump(obj):
    return vars(obj)

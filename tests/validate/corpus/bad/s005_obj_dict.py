# expect: S005 line 3
def fields(obj):
    return obj.__dict__

# expect: S005 line 3
def peek(obj):
    return obj.__dict__

# expect: S010 line 3
def peek(obj):
    return vars(obj)

# expect: S006 line 3
def drop(obj, attr_name):
    delattr(obj, attr_name)

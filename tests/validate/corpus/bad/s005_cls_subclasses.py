# expect: S005 line 3
def kids(cls):
    return cls.__subclasses__()

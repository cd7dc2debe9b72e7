# expect: S005 line 3
def peek(ns):
    return ns['__builtins__']

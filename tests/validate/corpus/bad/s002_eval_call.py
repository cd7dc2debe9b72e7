# expect: S002 line 3 col 11
def parse(text):
    return eval(text)

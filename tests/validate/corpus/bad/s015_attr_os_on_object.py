# expect: S015 line 3
def run(thing):
    return thing.os.system('id')

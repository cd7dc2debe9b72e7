# expect: S015 line 3
def run(mod):
    return mod.builtins.eval('1')

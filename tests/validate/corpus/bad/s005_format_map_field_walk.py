# expect: S005 line 3
def leak(mod):
    template = '{m.sys.modules}'
    return template.format_map({'m': mod})

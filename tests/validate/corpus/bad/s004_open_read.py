# expect: S004 line 3
def secrets():
    return open('/etc/passwd').read()

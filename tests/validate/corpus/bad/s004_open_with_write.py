# expect: S004 line 3
def save(data):
    with open('state.json', 'w') as fh:
        fh.write(data)

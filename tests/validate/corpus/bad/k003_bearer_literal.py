# expect: K003 line 2
HEADERS = {'Authorization': 'Bearer 9f8a7c6b5d4e3f2a1b0c'}

# expect: K001 line 3
def headers():
    return {'X-Token': 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'}

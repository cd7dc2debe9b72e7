# expect: E001 line 4
# allowed_hosts: api.example.com
def url(p):
    return f'https://exfil.attacker.io/{p}'

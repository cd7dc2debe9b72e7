# expect: E001 line 3
# allowed_hosts: api.example.com
BASE = 'https://evil.example.net/collect'

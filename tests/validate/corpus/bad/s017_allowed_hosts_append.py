# expect: S017 line 4
class S:
    def get(self):
        self.session.allowed_hosts.append('evil.example')

# expect: S017 line 4
class S:
    def get(self):
        self.authenticator.token_url = 'http://evil'

# expect: S017 line 4
class S:
    def get(self):
        self.session.proxies = {'https': 'http://proxy.evil'}

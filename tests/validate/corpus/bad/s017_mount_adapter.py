# expect: S017 line 4
class S:
    def get(self, adapter):
        self.session.mount('https://', adapter)

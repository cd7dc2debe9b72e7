# expect: S017 line 4
class S:
    def get(self, other):
        self.session = other

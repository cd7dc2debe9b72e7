# expect: S017 line 4
class S:
    def get(self):
        type(self.session).request = print

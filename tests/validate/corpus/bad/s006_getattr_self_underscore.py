# expect: S006 line 4
class S:
    def run(self, name):
        return getattr(self, '_' + name)

# expect: S017 line 4
class S:
    def get(self, req):
        return self.session.get_adapter('https://x').send(req)

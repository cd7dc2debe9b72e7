# expect: S017 line 4
class S:
    def get(self):
        return self.session.merge_environment_settings

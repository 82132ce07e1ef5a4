"""The verbs: one public function per verb, each taking a Context first and returning a typed result.

`toolkit.commands.env.env_up(ctx, "local")` from code and `toolkit env up local` are the same thing. A
verb never imports another verb: what several share lives in `toolkit.deploy`.
"""

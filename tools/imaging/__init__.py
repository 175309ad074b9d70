"""Images in and out, safely: loading, the session workspace, de-identification and the derived-output writer."""

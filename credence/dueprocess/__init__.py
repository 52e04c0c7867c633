"""Due process: explanations now; notices, disputes and corrections build on them."""

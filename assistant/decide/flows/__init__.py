"""The code behind each form of ``forms.yaml``, one module per family (orders, returns,
shopping, account), and the runner that fills forms one slot at a time."""

"""The agency workbench (ワークベンチ): staff of any agency see and answer their referrals in a browser."""

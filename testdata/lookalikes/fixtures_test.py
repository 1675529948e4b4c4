import unittest

FAKE_STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"  # Stripe's documented test key
TEST_PASSWORD = "test-password"
DUMMY_TOKEN = "dummy-token-for-tests"


class TestClient(unittest.TestCase):
    def test_auth_header(self):
        self.assertEqual(build_header("Bearer", DUMMY_TOKEN), "Bearer dummy-token-for-tests")

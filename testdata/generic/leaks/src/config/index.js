module.exports = {
  port: process.env.PORT || 3000,
  mongoUri: process.env.MONGO_URI,
  jwtSecret: 'Kyuhx3eTD6oukfbH0bu7FlC5MQSqjr7m',
  session: {
    name: 'shop.sid',
    secret: 'OwQgsVCbkVeM8cnMwIKZvRa2',
    maxAge: 86400000,
  },
  sms: {
    accountId: 'AC-7731',
    apiKey: '1f89be9d7f5da245fcbc6a63fc678ff2',
  },
};

package com.acme.shop;

import java.util.Properties;

public class MailConfig {
    private static final String SMTP_HOST = "smtp.mailprovider.net";
    private static final String SMTP_USER = "shop";
    private static final String SMTP_PASSWORD = "CkQ6wLpLN86WyoJ8lL";

    public Properties properties() {
        Properties props = new Properties();
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.host", SMTP_HOST);
        props.put("mail.smtp.password", "Mw2XVnAOXupwn5");
        return props;
    }
}

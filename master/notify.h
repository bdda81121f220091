/*
 * systemd readiness notifications (Type=notify) without libsystemd: one
 * datagram to $NOTIFY_SOCKET per state change. A no-op when the variable is
 * unset (not started by systemd).
 */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

void gw_notify_ready(void);
void gw_notify_reloading(void);
void gw_notify_stopping(void);
void gw_notify_status(const char *status);

#endif

/* msg-send-report.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgSendReport
{
  GObject parent_instance;
};


G_DEFINE_FINAL_TYPE (MsgSendReport, msg_send_report, G_TYPE_OBJECT)

static void
msg_send_report_class_init (MsgSendReportClass *klass)
{
}

static void
msg_send_report_init (MsgSendReport *self)
{
}

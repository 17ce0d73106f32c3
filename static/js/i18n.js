// A small two-language dictionary: the reader's first language of the two (navigator.languages),
// Chinese when neither is among them, and whatever they chose last once they chose.
// Static text in the HTML carries data-i18n keys (the HTML itself is written in Chinese,
// so a page reads right before any script runs); scripts call t() for text they build and
// re-render when the "onegrid:langchange" event fires. The choice is kept in localStorage.
// This module touches the DOM only inside functions, so it can be imported anywhere.

const STORAGE_KEY = 'onegrid.lang';
const LANGS = ['zh', 'en'];
const HTML_LANG = { zh: 'zh-CN', en: 'en' };
const EVENT = 'onegrid:langchange';

const zh = {
  'common.brand': '一网统管 OneGrid',
  'common.skip': '跳到主要内容',
  'common.navLabel': '主导航',
  'common.emergency': '紧急情况请直接拨打 110、119 或 120。',
  'common.optional': '（选填）',
  'common.network': '无法连接服务器，请检查网络后重试。',
  'common.copied': '已复制。',
  'common.copyFailed': '无法自动复制，文字已选中，请手动复制。',
  'lang.switch': 'English',
  'lang.switchLabel': 'Switch to English',
  'nav.report': '反映问题',
  'nav.track': '查询进度',

  'report.title': '反映问题 · 一网统管',
  'report.heading': '反映问题',
  'report.intro': '看到路牌损坏、设施故障等问题？告诉我们是什么问题、在哪里，我们会派给负责的部门处理，您可以随时查询进度。',
  'report.asset': '设施编号 {asset}',
  'asset.eyebrow': '您扫描的设施',
  'asset.fits': '常见问题，点一下即可反映：',
  'asset.loading': '正在读取设施信息…',
  'asset.unknown': '没有找到这个设施，您仍可以照常反映问题。',
  'category.search': '搜索，例如“路灯”“垃圾”',
  'category.searchLabel': '搜索类别',
  'category.none': '没有符合的类别，请换个说法。',
  'field.photos': '照片',
  'hint.photos': '最多 3 张。上传前会在手机上缩小，并去掉照片里的拍摄位置等信息。',
  'photos.alt': '第 {n} 张照片',
  'photos.size': '{kb} KB',
  'photos.remove': '删除',
  'photos.removeLabel': '删除第 {n} 张照片',
  'photos.busy': '正在处理照片…',
  'photos.ready': '已添加 {n} 张照片（已去除位置信息）。',
  'photos.tooMany': '最多 {max} 张照片，多出的没有添加。',
  'photos.unreadable': '无法读取照片“{name}”，请换一张。',
  'map.hint': '点击地图选择位置；用键盘时，移动地图后按“选用地图中心”。',
  'map.centre': '选用地图中心',
  'map.label': '地图：点击选择问题位置',
  'err.photos.too_many': '最多 3 张照片。',
  'err.photos.invalid': '照片无法使用，请换一张。',
  'err.crs.invalid': '请选择坐标系。',
  'err.contact_phone.long': '电话应为 7 到 20 位数字，可以“+”开头。',
  'err.category.invalid': '请从列表中选择一个类别。',
  'err.website.honeypot': '请留空此项。',
  'report.submit': '提交',
  'report.submitting': '正在提交…',

  'field.category': '问题类别',
  'field.description': '问题描述',
  'field.location': '问题位置',
  'field.lat': '纬度',
  'field.lng': '经度',
  'field.crs': '坐标系',
  'field.address': '地址或地标',
  'field.contact': '联系方式',
  'field.contact_name': '称呼',
  'field.contact_phone': '手机或电话',
  'field.public': '在“附近的问题”中公开显示',
  'hint.public': '公开时只显示问题的类别、描述（隐去电话、证件号和姓名）、大致位置（约 200 米）和处理状态；地址、联系方式和照片不公开，照片须经工作人员审核。',
  'result.public': '已公开显示，公开编号：',
  'field.channel': '来源渠道',

  'category.loading': '正在加载类别…',
  'category.choose': '请选择',
  'category.failed': '类别加载失败。',
  'category.retry': '重新加载',
  'category.group.component': '设施部件',
  'category.group.event': '事件',
  'category.group.other': '其他',

  'hint.description': '写清是什么问题、具体位置、造成什么影响。5 到 2000 字。',
  'report.counter': '{n} / {max} 字',
  'hint.location': '可以使用手机当前位置、在地图上点选，或手动填写坐标。',
  'hint.coords': '十进制度数，例如纬度 24.4875、经度 118.0962。',
  'hint.address': '例如“月美路公交站旁”。最多 200 字。',
  'hint.contact': '仅供工作人员核实情况时联系您，绝不会公开显示。',
  'hint.contact_phone': '7 到 20 位数字，可以“+”开头。',

  'locate.button': '使用我的位置',
  'locate.busy': '正在获取位置…',
  'locate.ok': '已获取位置（误差约 {m} 米）。',
  'locate.denied': '没有获得定位权限。请在浏览器设置中允许定位，或手动填写坐标。',
  'locate.unavailable': '暂时无法获取位置，请重试或手动填写坐标。',
  'locate.timeout': '定位超时，请重试或手动填写坐标。',
  'locate.unsupported': '此浏览器不支持定位，请手动填写坐标。',
  'locate.insecure': '只有通过 HTTPS 打开本页才能定位，请手动填写坐标。',

  'crs.wgs84': 'WGS-84（GPS、手机定位）',
  'crs.gcj02': 'GCJ-02（高德、腾讯地图）',
  'crs.bd09': 'BD-09（百度地图）',

  'grid.loading': '正在查找所在网格…',
  'grid.inside': '所在网格：{name}',
  'grid.nearest': '最近的网格：{name}（相距约 {m} 米）',
  'grid.code': '网格编码 {code}',
  'grid.outside': '该位置不在本平台的服务范围内。',
  'grid.served': '本平台服务：{areas}。',
  'list.sep': '、',
  'err.location.required': '请选择问题位置：点击“使用我的位置”、在地图上点选，或填写坐标。',
  'grid.failed': '暂时无法确定所在网格，提交时系统会再确定。',

  'err.category.required': '请选择问题类别。',
  'err.category.unknown': '请从列表中选择一个类别。',
  'err.description.required': '请描述问题。',
  'err.description.short': '描述至少需要 5 个字。',
  'err.description.long': '描述不能超过 2000 字（现在 {n} 字）。',
  'err.lat.required': '请填写纬度，或点击“使用我的位置”。',
  'err.lat.invalid': '纬度应是 -90 到 90 之间的数字。',
  'err.lng.required': '请填写经度，或点击“使用我的位置”。',
  'err.lng.invalid': '经度应是 -180 到 180 之间的数字。',
  'err.address.long': '地址不能超过 200 字。',
  'err.contact_name.long': '称呼不能超过 50 字。',
  'err.contact_phone.invalid': '电话应为 7 到 20 位数字，可以“+”开头。',

  'summary.title': '请检查以下内容',
  'summary.item': '{label}：{message}',
  'err.server': '此项不符合要求。',
  'problem.validation-failed': '部分内容没有通过检查',
  'problem.outside-jurisdiction': '该位置不在服务范围内',
  'problem.rate-limited': '提交太频繁了，请稍后再试',
  'problem.body-too-large': '提交的内容太长',
  'problem.internal': '服务器出错，反映没有保存，请稍后再试',
  'problem.generic': '提交没有成功（错误 {status}）',

  'result.title': '已提交，感谢您的反映！',
  'result.codeLabel': '查询码',
  'result.codeHint': '凭查询码可以随时查看处理进度。',
  'result.copyCode': '复制查询码',
  'result.secretLabel': '评价密钥',
  'result.secretNote': '请现在保存（截图或抄下均可）。密钥只显示这一次，评价处理结果时需要用到（本机浏览器也会记住它）；请勿告诉他人。',
  'result.copySecret': '复制密钥',
  'result.grid': '所在网格：',
  'result.track': '查看处理进度',
  'result.another': '再反映一个问题',

  'track.title': '查询进度 · 一网统管',
  'track.heading': '查询处理进度',
  'track.intro': '输入提交反映时得到的查询码。',
  'field.code': '查询码',
  'hint.code': '例如 K7QM-4XPT，不区分大小写。',
  'track.submit': '查询',
  'track.loading': '正在查询…',
  'track.notFound': '没有找到查询码为 {code} 的反映。请核对查询码是否输入正确。',
  'track.failed': '查询没有成功（错误 {status}），请稍后再试。',
  'err.code.required': '请输入查询码。',
  'err.code.invalid': '查询码只包含字母、数字和“-”。',

  'case.heading': '查询码 {code}',
  'case.status': '当前状态',
  'case.category': '问题类别',
  'case.grid': '所在网格',
  'case.department': '负责部门',
  'case.timeline': '处理经过',
  'case.noTimeline': '暂时没有记录。',
  'case.unknown': '尚未确定',
  'case.channel': '渠道：{channel}',
  'case.note': '说明：{note}',
  'case.statusChanged': '状态更新为“{status}”',

  // Status names as the badge shows them, and one sentence on what each means for the citizen.
  'status.collected': '已收到',
  'status.accepted': '已受理',
  'status.rejected': '不予受理',
  'status.merged': '已合并',
  'status.dispatched': '已派遣',
  'status.signed_for': '部门已签收',
  'status.returned': '已退回',
  'status.in_progress': '处理中',
  'status.handled': '已处理',
  'status.verified': '已核实',
  'status.rework': '返工中',
  'status.closed': '已结案',
  'case.deadline': '本环节时限',
  'case.description': '问题描述',
  'case.photos': '您上传的照片',
  'light.green': '正常',
  'light.yellow': '即将到期',
  'light.red': '已超时',
  'rating.heading': '评价处理结果',
  'rating.question': '您对处理结果满意吗？',
  'rating.satisfied': '满意',
  'rating.basically_satisfied': '基本满意',
  'rating.unsatisfied': '不满意（将重新核查）',
  'rating.comment': '意见',
  'rating.secret': '评价密钥',
  'rating.secretHint': '提交反映时显示的密钥。在同一台手机上提交的，已自动填好。',
  'rating.submit': '提交评价',
  'rating.choose': '请选择满意程度。',
  'rating.needSecret': '请填写评价密钥。',
  'rating.wrongSecret': '评价密钥不正确。',
  'rating.thanks': '感谢您的评价：{rating}。',
  'status.evaluated': '已评价',
  'explain.collected': '您的反映已登记，正在等待综治中心受理。',
  'explain.accepted': '综治中心已受理立案，即将派给负责的部门。',
  'explain.rejected': '这条反映没有被受理，原因见下方的处理经过。',
  'explain.merged': '已有人反映了同一个问题，这条反映已合并到该案件一起处理。',
  'explain.dispatched': '已派给负责的部门，正在等待部门签收。',
  'explain.signed_for': '负责的部门已经接手，正在安排处理。',
  'explain.returned': '部门认为不属于自己负责，综治中心会重新派给正确的部门。',
  'explain.in_progress': '负责的部门正在处理。',
  'explain.handled': '部门报告已经处理完毕，等待网格员或您核实。',
  'explain.verified': '已到现场核实，问题已经解决，即将结案。',
  'explain.rework': '核实发现问题没有解决，已退回部门重新处理。',
  'explain.closed': '案件已结案，感谢您的反映。',
  'explain.evaluated': '案件已结案，也已收到评价，感谢您！',

  // Timeline sentences by event type.
  'event.reported': '反映已收到并登记',
  'event.collected': '反映已收到并登记',
  'event.accepted': '综治中心受理立案',
  'event.rejected': '综治中心决定不予受理',
  'event.merged': '与已有的同一问题合并处理',
  'event.dispatched': '派遣给负责部门',
  'event.signed_for': '负责部门签收',
  'event.returned': '部门退回，等待重新派遣',
  'event.in_progress': '部门开始处理',
  'event.handled': '部门反馈已处理完毕',
  'event.verified': '现场核实，确认已解决',
  'event.rework': '核实未通过，退回返工',
  'event.closed': '结案',
  'event.evaluated': '收到满意度评价',
  'nearby.title': '附近已有 {n} 条相同问题，关注它？',
  'nearby.hint': '关注后，可在“查询进度”页的“我的反映”中看到它的进展；您也可以继续提交。',
  'nearby.since': '反映于',
  'nearby.follow': '关注这条',
  'nearby.followLabel': '关注这条问题：{what}',
  'nearby.followed': '已关注。',
  'nearby.mine': '在“我的反映”中查看',
  'mine.heading': '我的反映',
  'mine.intro': '在这台设备上提交和关注的问题（只保存在本机）。',
  'mine.empty': '这台设备上还没有提交或关注的问题。',
  'mine.own': '我提交的',
  'mine.followed': '我关注的',
  'mine.open': '查看 {code}',
  'mine.unfollow': '取消关注',
  'mine.unfollowLabel': '取消关注：{what}',
  'mine.gone': '这条问题已不再公开。',
  // By the event's own kind (a move of the case, or what the platform recorded).
  'event.accept': '综治中心受理立案',
  'event.reject': '综治中心决定不予受理',
  'event.merge': '与已有的同一问题合并处理',
  'event.dispatch': '派给负责的部门',
  'event.sign_for': '负责部门签收',
  'event.return': '部门退回，等待重新派遣',
  'event.start': '部门开始处理',
  'event.request_extension': '部门申请延长处理时限',
  'event.approve_extension': '延长处理时限获批准',
  'event.refuse_extension': '延长处理时限未获批准',
  'event.handle': '部门反馈已处理完毕',
  'event.self_handle': '网格员现场处理完毕',
  'event.verify_pass': '现场核实，确认已解决',
  'event.verify_fail': '核实未通过，退回返工',
  'event.close': '结案',
  'event.evaluate': '收到满意度评价',
  'event.correct': '综治中心更正了类别或地点',
  'event.escalate': '已超时，上报督办',
  'event.late_status': '部门补报了一条较早的进展',
  'event.platform_update': '合作平台更新了进展',
  'event.open311_update': '收到补充留言',
  'case.via': '通过{channel}提交',
  'steps.label': '处理进度',
  'steps.accepted': '已受理',
  'steps.dispatched': '已派遣',
  'steps.handling': '处置中',
  'steps.closed': '已办结',
  'steps.done': '（已完成）',
  'steps.now': '（当前）',
  'track.merged': '您的反映与一条正在处理的相同问题合并，下面是那条问题的进度。',
  'rating.mergedNote': '合并后的问题由最先反映的市民评价；您的意见可在下次反映时告诉我们。',

  'channel.web': '网页',
  'channel.qr': '扫码',
  'channel.patrol': '网格员巡查',
  'channel.webhook': '平台推送',
  'channel.open311': 'Open311',
  'channel.operator': '综治中心',
  'channel.console': '工作台',
  'channel.department': '负责部门',
  'channel.callback': '部门回传',
  'channel.system': '系统',
  'channel.12345': '12345 热线',

};

const en = {
  'common.brand': 'OneGrid',
  'common.skip': 'Skip to main content',
  'common.navLabel': 'Main',
  'common.emergency': 'In an emergency, call 110, 119 or 120 directly.',
  'common.optional': '(optional)',
  'common.network': 'Could not reach the server. Check your connection and try again.',
  'common.copied': 'Copied.',
  'common.copyFailed': 'Could not copy automatically. The text is selected: copy it yourself.',
  'lang.switch': '中文',
  'lang.switchLabel': '切换为中文',
  'nav.report': 'Report a problem',
  'nav.track': 'Track a report',

  'report.title': 'Report a problem · OneGrid',
  'report.heading': 'Report a problem',
  'report.intro': 'Seen a broken sign or a damaged facility? Tell us what is wrong and where. We send it to the department in charge, and you can follow its progress at any time.',
  'report.asset': 'Asset {asset}',
  'asset.eyebrow': 'You scanned',
  'asset.fits': 'Common problems, one tap to report:',
  'asset.loading': 'Reading the asset…',
  'asset.unknown': 'This asset was not found. You can still report the problem as usual.',
  'category.search': 'Search, e.g. “streetlight”, “litter”',
  'category.searchLabel': 'Search the categories',
  'category.none': 'No category matches. Try other words.',
  'field.photos': 'Photos',
  'hint.photos': 'Up to 3. They are made smaller on your phone before sending, and their location data is removed.',
  'photos.alt': 'Photo {n}',
  'photos.size': '{kb} KB',
  'photos.remove': 'Remove',
  'photos.removeLabel': 'Remove photo {n}',
  'photos.busy': 'Preparing the photos…',
  'photos.ready': '{n} photo(s) added (location data removed).',
  'photos.tooMany': 'At most {max} photos; the extra ones were not added.',
  'photos.unreadable': 'Could not read the photo “{name}”. Try another.',
  'map.hint': 'Tap the map to choose the place. With a keyboard, move the map and press “Use the map’s centre”.',
  'map.centre': 'Use the map’s centre',
  'map.label': 'Map: tap to choose the place of the problem',
  'err.photos.too_many': 'At most 3 photos.',
  'err.photos.invalid': 'This photo cannot be used. Try another.',
  'err.crs.invalid': 'Choose a coordinate system.',
  'err.contact_phone.long': 'A phone number is 7 to 20 digits; it may start with +.',
  'err.category.invalid': 'Choose a category from the list.',
  'err.website.honeypot': 'Leave this field empty.',
  'report.submit': 'Send report',
  'report.submitting': 'Sending…',

  'field.category': 'Category',
  'field.description': 'Description',
  'field.location': 'Location',
  'field.lat': 'Latitude',
  'field.lng': 'Longitude',
  'field.crs': 'Coordinate system',
  'field.address': 'Address or landmark',
  'field.contact': 'Your contact details',
  'field.contact_name': 'Name',
  'field.contact_phone': 'Phone',
  'field.public': 'Show it publicly in “problems near here”',
  'hint.public': 'A public report shows only its category, its description (phone and ID numbers and names hidden), a rough place (about 200 m) and its status; never the address, the contact or, until staff approve them, the photos.',
  'result.public': 'Shown publicly as ',
  'field.channel': 'Channel',

  'category.loading': 'Loading categories…',
  'category.choose': 'Choose a category',
  'category.failed': 'Could not load the categories.',
  'category.retry': 'Try again',
  'category.group.component': 'Facilities and street furniture',
  'category.group.event': 'Events and incidents',
  'category.group.other': 'Other',

  'hint.description': 'Say what is wrong, exactly where, and how it affects people. 5 to 2000 characters.',
  'report.counter': '{n} / {max} characters',
  'hint.location': 'Use your phone’s current location, tap the map, or type the coordinates.',
  'hint.coords': 'Decimal degrees, for example latitude 24.4875, longitude 118.0962.',
  'hint.address': 'For example “next to the Yuemei Road bus stop”. Up to 200 characters.',
  'hint.contact': 'Only staff use these, to contact you about this report. They are never shown publicly.',
  'hint.contact_phone': '7 to 20 digits; may start with +.',

  'locate.button': 'Use my location',
  'locate.busy': 'Finding your location…',
  'locate.ok': 'Location found (accurate to about {m} m).',
  'locate.denied': 'Location permission was not given. Allow it in your browser settings, or type the coordinates.',
  'locate.unavailable': 'Your location is not available right now. Try again, or type the coordinates.',
  'locate.timeout': 'Finding your location took too long. Try again, or type the coordinates.',
  'locate.unsupported': 'This browser cannot share its location. Type the coordinates.',
  'locate.insecure': 'Location works only when this page is opened over HTTPS. Type the coordinates.',

  'crs.wgs84': 'WGS-84 (GPS, phone location)',
  'crs.gcj02': 'GCJ-02 (AMap, Tencent Maps)',
  'crs.bd09': 'BD-09 (Baidu Maps)',

  'grid.loading': 'Finding the grid cell…',
  'grid.inside': 'Grid cell: {name}',
  'grid.nearest': 'Nearest grid cell: {name} (about {m} m away)',
  'grid.code': 'Cell code {code}',
  'grid.outside': 'This place is outside the area we serve.',
  'grid.served': 'We serve: {areas}.',
  'list.sep': ', ',
  'err.location.required': 'Choose the place: press “Use my location”, tap the map, or enter coordinates.',
  'grid.failed': 'Could not find the grid cell right now; it will be worked out when you send the report.',

  'err.category.required': 'Choose a category.',
  'err.category.unknown': 'Choose a category from the list.',
  'err.description.required': 'Describe the problem.',
  'err.description.short': 'Write at least 5 characters.',
  'err.description.long': 'Write at most 2000 characters (now {n}).',
  'err.lat.required': 'Enter the latitude, or press “Use my location”.',
  'err.lat.invalid': 'Latitude must be a number from -90 to 90.',
  'err.lng.required': 'Enter the longitude, or press “Use my location”.',
  'err.lng.invalid': 'Longitude must be a number from -180 to 180.',
  'err.address.long': 'The address can have at most 200 characters.',
  'err.contact_name.long': 'The name can have at most 50 characters.',
  'err.contact_phone.invalid': 'The phone number must have 7 to 20 digits and may start with +.',

  'summary.title': 'Please check the following',
  'summary.item': '{label}: {message}',
  'err.server': 'This value was not accepted.',
  'problem.validation-failed': 'Some fields were not accepted',
  'problem.outside-jurisdiction': 'This place is outside the area we serve',
  'problem.rate-limited': 'Too many reports in a short time; please try again later',
  'problem.body-too-large': 'The report is too long',
  'problem.internal': 'Server error: the report was not saved. Please try again later',
  'problem.generic': 'The report was not sent (error {status})',

  'result.title': 'Sent. Thank you for your report!',
  'result.codeLabel': 'Tracking code',
  'result.codeHint': 'Use this code to follow the progress at any time.',
  'result.copyCode': 'Copy code',
  'result.secretLabel': 'Secret key',
  'result.secretNote': 'Save it now (a screenshot will do). It is shown only this once and you will need it to rate the result (this browser remembers it too). Do not share it.',
  'result.copySecret': 'Copy key',
  'result.grid': 'Grid cell: ',
  'result.track': 'Track this report',
  'result.another': 'Report another problem',

  'track.title': 'Track a report · OneGrid',
  'track.heading': 'Track a report',
  'track.intro': 'Enter the tracking code you got when you sent your report.',
  'field.code': 'Tracking code',
  'hint.code': 'For example K7QM-4XPT. Upper or lower case both work.',
  'track.submit': 'Look up',
  'track.loading': 'Looking up…',
  'track.notFound': 'We found no report with the code {code}. Check that it is typed correctly.',
  'track.failed': 'The lookup did not work (error {status}). Please try again later.',
  'err.code.required': 'Enter a tracking code.',
  'err.code.invalid': 'A tracking code has only letters, digits and “-”.',

  'case.heading': 'Tracking code {code}',
  'case.status': 'Status',
  'case.category': 'Category',
  'case.grid': 'Grid cell',
  'case.department': 'Department',
  'case.timeline': 'What has happened',
  'case.noTimeline': 'Nothing recorded yet.',
  'case.unknown': 'Not known yet',
  'case.channel': 'Channel: {channel}',
  'case.note': 'Note: {note}',
  'case.statusChanged': 'Status changed to “{status}”',

  'status.collected': 'Received',
  'status.accepted': 'Accepted',
  'status.rejected': 'Not accepted',
  'status.merged': 'Merged',
  'status.dispatched': 'Sent to department',
  'status.signed_for': 'Taken on',
  'status.returned': 'Returned',
  'status.in_progress': 'In progress',
  'status.handled': 'Handled',
  'status.verified': 'Verified',
  'status.rework': 'Rework',
  'status.closed': 'Closed',
  'case.deadline': 'Due for this step',
  'case.description': 'Description',
  'case.photos': 'Your photos',
  'light.green': 'on time',
  'light.yellow': 'due soon',
  'light.red': 'overdue',
  'rating.heading': 'Rate the result',
  'rating.question': 'Are you satisfied with how this was handled?',
  'rating.satisfied': 'Satisfied',
  'rating.basically_satisfied': 'Mostly satisfied',
  'rating.unsatisfied': 'Not satisfied (it will be reviewed)',
  'rating.comment': 'Comment',
  'rating.secret': 'Rating secret',
  'rating.secretHint': 'The secret shown when you reported. On the phone you reported from, it is filled in for you.',
  'rating.submit': 'Send the rating',
  'rating.choose': 'Choose how satisfied you are.',
  'rating.needSecret': 'Enter the rating secret.',
  'rating.wrongSecret': 'That rating secret is not right.',
  'rating.thanks': 'Thank you for rating: {rating}.',
  'status.evaluated': 'Rated',
  'explain.collected': 'Your report is registered and waiting for the governance centre to review it.',
  'explain.accepted': 'The governance centre has accepted the case and will send it to the department in charge.',
  'explain.rejected': 'This report was not accepted. The reason is in the record below.',
  'explain.merged': 'Someone already reported the same problem; this report was merged into that case.',
  'explain.dispatched': 'Sent to the department in charge, waiting for it to take the case on.',
  'explain.signed_for': 'The department in charge has taken the case on and is planning the work.',
  'explain.returned': 'The department said the case is not theirs; the centre will send it to the right one.',
  'explain.in_progress': 'The department in charge is working on it.',
  'explain.handled': 'The department reports the work done; a grid worker or you will check it.',
  'explain.verified': 'Checked on site: the problem is solved. The case will be closed.',
  'explain.rework': 'The check found the problem not solved; the department must work on it again.',
  'explain.closed': 'The case is closed. Thank you for reporting it.',
  'explain.evaluated': 'The case is closed and the rating was received. Thank you!',

  'event.reported': 'Report received and registered',
  'event.collected': 'Report received and registered',
  'event.accepted': 'Accepted by the governance centre',
  'event.rejected': 'Not accepted by the governance centre',
  'event.merged': 'Merged with an earlier report of the same problem',
  'event.dispatched': 'Sent to the department in charge',
  'event.signed_for': 'Taken on by the department',
  'event.returned': 'Returned by the department, to be sent on again',
  'event.in_progress': 'The department started work',
  'event.handled': 'The department reported the work done',
  'event.verified': 'Checked on site and confirmed solved',
  'event.rework': 'Check failed; sent back for rework',
  'event.closed': 'Case closed',
  'event.evaluated': 'Rating received',
  'nearby.title': 'Already reported nearby ({n}). Follow it instead?',
  'nearby.hint': 'You can follow its progress under “My reports” on the tracking page; or send yours anyway.',
  'nearby.since': 'Reported',
  'nearby.follow': 'Follow this',
  'nearby.followLabel': 'Follow this report: {what}',
  'nearby.followed': 'Followed.',
  'nearby.mine': 'See it under “My reports”',
  'mine.heading': 'My reports',
  'mine.intro': 'Reports sent and followed on this device (kept on this device only).',
  'mine.empty': 'Nothing sent or followed on this device yet.',
  'mine.own': 'Sent by me',
  'mine.followed': 'Followed',
  'mine.open': 'Open {code}',
  'mine.unfollow': 'Unfollow',
  'mine.unfollowLabel': 'Unfollow: {what}',
  'mine.gone': 'This report is no longer public.',
  'event.accept': 'Accepted by the governance centre',
  'event.reject': 'Not accepted by the governance centre',
  'event.merge': 'Merged with an earlier report of the same problem',
  'event.dispatch': 'Sent to the department in charge',
  'event.sign_for': 'Taken on by the department',
  'event.return': 'Returned by the department, to be sent on again',
  'event.start': 'The department started work',
  'event.request_extension': 'The department asked for more time',
  'event.approve_extension': 'More time was granted',
  'event.refuse_extension': 'More time was not granted',
  'event.handle': 'The department reported the work done',
  'event.self_handle': 'Fixed on the spot by the grid worker',
  'event.verify_pass': 'Checked on site and confirmed solved',
  'event.verify_fail': 'Check failed; sent back for rework',
  'event.close': 'Case closed',
  'event.evaluate': 'Rating received',
  'event.correct': 'The centre corrected the category or the place',
  'event.escalate': 'Overdue: raised to the next level',
  'event.late_status': 'The department reported an earlier step late',
  'event.platform_update': 'The partner platform sent an update',
  'event.open311_update': 'A comment was added',
  'case.via': 'Sent by {channel}',
  'steps.label': 'Progress',
  'steps.accepted': 'Accepted',
  'steps.dispatched': 'Sent to department',
  'steps.handling': 'Being fixed',
  'steps.closed': 'Done',
  'steps.done': ' (done)',
  'steps.now': ' (now)',
  'track.merged': 'Your report was merged with one about the same problem that is already being handled; here is its progress.',
  'rating.mergedNote': 'A merged problem is rated by the first person who reported it; tell us what you think next time you report.',

  'channel.web': 'web',
  'channel.qr': 'QR code',
  'channel.patrol': 'grid worker patrol',
  'channel.webhook': 'partner platform',
  'channel.open311': 'Open311',
  'channel.operator': 'governance centre',
  'channel.console': 'console',
  'channel.department': 'department',
  'channel.callback': 'department report',
  'channel.system': 'system',
  'channel.12345': '12345 hotline',

};

export const dictionaries = { zh, en };

/**
 * Adds a page's own keys (staff pages keep theirs in js/i18n-<page>.js), so each page carries
 * only the text it shows. Call before initI18n().
 */
export function extend(moreZh, moreEn) {
  Object.assign(zh, moreZh);
  Object.assign(en, moreEn);
}

let current = readStored();

function readStored() {
  // localStorage throws in some private modes and is absent outside browsers.
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* fall through to the browser's languages */ }
  return fromBrowser(globalThis.navigator?.languages ?? [globalThis.navigator?.language]);
}

/** The first of the reader's languages that the pages speak; Chinese, the city's, otherwise. */
export function fromBrowser(languages) {
  for (const tag of languages ?? []) {
    const primary = String(tag ?? '').toLowerCase().split('-')[0];
    if (LANGS.includes(primary)) return primary;
  }
  return 'zh';
}

/** The current language: "zh" or "en". */
export function lang() {
  return current;
}

/** The BCP 47 tag of the current language, for <html lang> and Intl formatters. */
export function locale() {
  return HTML_LANG[current];
}

/** The text for `key`, with `{name}` placeholders filled from `vars`. Unknown keys show themselves. */
export function t(key, vars = {}) {
  const text = dictionaries[current][key] ?? dictionaries.zh[key] ?? key;
  // A function replacement: values are inserted literally, never re-read as patterns.
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Whether the dictionary has `key` (for data-driven keys such as statuses). */
export function has(key) {
  return key in dictionaries[current];
}

/** The text for `key` when the dictionary has it, else `fallback` (a code the page has no words for). */
export function tOr(key, fallback, vars = {}) {
  return has(key) ? t(key, vars) : fallback;
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try { globalThis.localStorage?.setItem(STORAGE_KEY, next); } catch { /* not remembered, still switched */ }
  apply();
  document.dispatchEvent(new CustomEvent(EVENT));
}

export function onLangChange(handler) {
  document.addEventListener(EVENT, handler);
}

/** Writes the current language into every element marked with data-i18n* attributes. */
export function apply(root = document) {
  document.documentElement.lang = locale();
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  // The switch names the other language in that language, so its text carries that lang.
  const button = document.getElementById('lang-switch');
  if (button) button.lang = HTML_LANG[current === 'zh' ? 'en' : 'zh'];
}

/** Applies the stored language and wires the switch button. Call once per page. */
let wired = false;
export function initI18n() {
  apply();
  if (wired) return;
  wired = true;
  document.getElementById('lang-switch')?.addEventListener('click', () => setLang(current === 'zh' ? 'en' : 'zh'));
}

"""Two years of dispute mediation for the demo county, through the real services: a
roster per station (its community officers, grid workers and volunteers, village cadres,
a lawyer, "Fengqiao" mediators, the judicial office's mediator); disputes at registry
addresses or from calls, mediated at the grid, some at the station or the judicial office,
mostly settled, a few failed, withdrawn or re-opened; the last days' still open. The
services stamp the present, so what they make is dated back. A rebuild adds nothing."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.auth import system_principal
from fengqiao.clock import CHINA_TZ, at_local, local_day
from fengqiao.config import Settings
from fengqiao.db import utcnow
from fengqiao.demo.names import GIVEN_FEMALE, GIVEN_MALE, SURNAME_WEIGHTS, SURNAMES, NameMaker
from fengqiao.disputes import agreements, conversion, mediation, mediators, service
from fengqiao.disputes import models as dm
from fengqiao.disputes import schemas as ds
from fengqiao.disputes.models import Dispute, DisputeStatus, MediationLevel, Mediator, Outcome
from fengqiao.disputes.risk import assess
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident, IncidentCategory
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid, Station, Team
from fengqiao.registry.identity import check_character
from fengqiao.registry.models import Address, AddressLevel, RecordStatus
from fengqiao.tasks.models import FollowUp, FollowUpStatus

DAYS = 730
PER_DAY = 0.6  # disputes a day in the county, more around the Spring Festival
SPRING_FESTIVAL = (date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6))
GRID, STATION, JUDICIAL = MediationLevel.GRID, MediationLevel.STATION, MediationLevel.JUDICIAL
K = dm.MediatorKind
DATED = (dm.DisputeEvent, dm.DisputeMediator, dm.MediationSession, dm.MediationAgreement, FollowUp)
STAMPED = {dm.DisputeEvent: "at", dm.DisputeMediator: "added_at"}  # else created_at
# kind → weight in urban and in rural grids, and the range of the money at stake (yuan)
KINDS = {
    "neighbour": (30, 27, 500, 6000),
    "family": (20, 24, 500, 30000),
    "property": (15, 2, 1500, 8000),
    "wages": (9, 8, 5000, 90000),
    "land": (1, 16, 1000, 20000),
    "contract": (9, 6, 2000, 60000),
    "marriage": (7, 8, 3000, 80000),
    "other": (7, 7, 800, 15000),
}
# kind | title | facts ({a} applicant, {b} respondent, {m} yuan) | terms (;) | flags: O respondent is
# an organisation, T a second applicant, P an elderly third party, F a woman against a man,
# S brothers, R rural only, U urban only.
TEMPLATE_LINES = (
    "neighbour|楼上漏水纠纷|{b}家卫生间防水层老化，漏水致楼下{a}家天花板及墙面发霉受损，{a}多次上门协商未果。|{b}于十日内请专业人员修复卫生间防水层;{b}一次性赔偿{a}房屋修缮费用{m}元|U",
    "neighbour|噪音扰民纠纷|{a}反映楼上{b}家夜间经常拖动桌椅、大声播放音乐，影响家中老人和学生休息，双方多次争吵。|{b}每晚22时至次日7时不得制造噪音;{b}在桌椅脚加装防滑垫，{a}不再因此事上门争吵|U",
    "neighbour|排水沟堵塞纠纷|{a}与邻居{b}因两家房屋之间的排水沟堵塞、雨天积水倒灌发生争执，双方互相指责。|双方共同出资疏通排水沟，费用各半;{b}清除堆放在水沟上的杂物|",
    "neighbour|楼道堆物纠纷|{b}长期在公共楼道堆放杂物、停放电动车，{a}认为存在消防隐患且影响通行，双方发生口角。|{b}三日内清理楼道杂物，电动车停放至小区车棚;双方今后和睦相处，互不干扰|U",
    "neighbour|养犬扰民纠纷|{b}饲养的犬只夜间吠叫且未拴绳，曾追咬{a}家小孩，双方发生争吵。|{b}外出遛狗必须拴绳并及时清理粪便;{b}承担{a}之子疫苗及误工费用{m}元|",
    "neighbour|搭建雨棚纠纷|{b}在自家屋后搭建雨棚，{a}认为影响其房屋采光和排水，双方多次争吵。|{b}将雨棚向内收缩五十厘米，排水管改至自家一侧;{a}不再就此事阻挠施工|R",
    "family|赡养老人纠纷|{a}与弟弟{b}因母亲赡养费分摊和轮流照顾问题产生矛盾，老人生活无人照料。|兄弟二人每月各支付母亲赡养费{m}元;母亲由二人按月轮流照顾，医疗费用凭票据均摊|SP",
    "family|分家析产纠纷|{a}与{b}兄弟俩因父亲去世后老宅分割问题产生纠纷，多次争吵。|老宅东侧两间归{a}所有，西侧两间归{b}所有;{a}补偿{b}差价{m}元|S",
    "family|婆媳矛盾|{a}与儿媳{b}因家务琐事、带孩子方式长期不和，近日发生激烈争吵。|双方相互尊重，不再恶语相向;{b}夫妇每月补贴{a}生活费{m}元并每周回家看望|",
    "family|亲戚借款纠纷|{a}借给亲戚{b}建房款{m}元，约定一年内归还，逾期两年未还，双方关系紧张。|{b}分三期归还借款{m}元;{a}不再追究利息|",
    "marriage|抚养费纠纷|{a}与前夫{b}离婚后，{b}拖欠孩子抚养费半年共{m}元，双方多次争吵。|{b}于本月底前补付拖欠的抚养费{m}元;此后每月5日前按时支付抚养费|F",
    "marriage|彩礼返还纠纷|{a}与{b}订婚后解除婚约，双方因彩礼是否返还发生争执，两家亲属多次争吵。|{b}家退还{a}家彩礼{m}元;双方解除婚约，今后互不追究|",
    "marriage|夫妻矛盾|{a}与丈夫{b}因{b}长期酗酒、不顾家发生争吵，{a}带孩子回娘家居住。|{b}保证戒酒，按月将工资{m}元交作家庭开支;双方互相尊重，共同抚养子女|F",
    "marriage|恋爱财物纠纷|{a}与前男友{b}分手后，因恋爱期间的借款{m}元及共同购买的电动车归属发生争执。|{b}归还{a}借款{m}元;电动车归{b}所有|F",
    "land|宅基地边界纠纷|{a}与{b}两户因宅基地边界不清，{b}建房砌墙超出约三十厘米，双方多次争吵。|以村委会原丈量图为准，{b}拆除超出部分围墙;{b}补偿{a}损失{m}元|R",
    "land|山林界址纠纷|{a}与{b}两家因祖山山林界址不清，{b}砍伐杉木时越界，双方发生争执。|经村干部现场勘界，重新埋设界桩;{b}赔偿{a}越界砍伐的杉木款{m}元|R",
    "land|土地流转费纠纷|{a}将承包地流转给{b}种植茶叶，{b}拖欠流转费{m}元，双方发生争执。|{b}于一个月内付清流转费{m}元;合同期满后{b}恢复土地原状|R",
    "land|灌溉用水纠纷|{a}与{b}两家因农田灌溉放水先后及水渠维护问题发生争吵。|双方按村规民约轮流放水;水渠维护费用{m}元由两户均摊|R",
    "wages|拖欠工资纠纷|{a}等工人在{b}承建的工地务工，工程结束后{b}拖欠工资共计{m}元，多次讨要未果。|{b}于十五日内支付拖欠工资{m}元;工资支付后双方劳务关系结束，互不追究|OT",
    "wages|工伤赔偿纠纷|{a}在{b}务工期间不慎摔伤，因医疗费和误工费赔偿问题与{b}发生争执。|{b}承担{a}医疗费、误工费共计{m}元;{a}不再就此事向{b}主张其他费用|O",
    "wages|经济补偿纠纷|{a}在{b}工作三年，被辞退时双方因经济补偿金发生争执。|{b}支付{a}经济补偿{m}元;{b}为{a}出具离职证明|O",
    "wages|包工头欠薪纠纷|{a}等多名木工反映包工头{b}结算后拖欠工资{m}元，情绪激动。|{b}于十日内分两次付清工资{m}元;{a}等人不再到{b}家中聚集讨要|T",
    "contract|租房押金纠纷|{a}租住{b}的房屋，退租时双方因押金{m}元及屋内家具损坏责任发生纠纷。|{b}退还{a}押金{m}元;损坏的家具由{a}负责维修|",
    "contract|货款纠纷|{a}向{b}供应茶青，{b}拖欠货款{m}元，多次催要未果。|{b}于一个月内分两期付清货款{m}元;{a}免除逾期利息|",
    "contract|装修质量纠纷|{a}请{b}装修房屋，完工后墙面开裂、渗水，双方就剩余工程款{m}元发生争执。|{b}于二十日内返工修复;验收合格后{a}支付剩余工程款{m}元|",
    "contract|车辆剐蹭纠纷|{a}的电动车与{b}的小汽车剐蹭，双方就维修费{m}元承担发生争执。|{b}承担维修费{m}元;双方不再追究|",
    "property|物业费纠纷|{b}称业主{a}拖欠物业费两年共{m}元，{a}则认为物业服务不到位、电梯经常故障，拒绝缴纳。|{a}于一个月内缴清物业费{m}元;物业公司于十五日内完成电梯检修并公示结果|OU",
    "property|停车收费纠纷|业主{a}与{b}因小区停车收费标准及车位被占用问题发生争执。|物业公司暂按原标准收费，待业主大会表决;为{a}协调固定车位，{a}补缴停车费{m}元|OU",
    "property|楼顶漏水维修纠纷|{a}家顶楼漏水，与{b}就公共维修资金使用和维修责任发生分歧。|物业公司启动公共维修资金修复楼顶防水;{b}补偿{a}室内损失{m}元|OU",
    "other|消费纠纷|{a}在{b}购买的手机三天后出现故障，要求退货遭拒，双方发生争执。|{b}为{a}更换同型号新手机;{a}撤回投诉|O",
    "other|养殖污染纠纷|{b}的养猪场异味和污水影响周边村民{a}等人生活，双方多次争吵。|{b}一个月内完成污水处理设施改造;{b}补偿{a}等人{m}元|R",
    "other|二手交易纠纷|{a}向{b}购买二手电动车，付款{m}元后发现车辆有质量问题，双方发生争执。|{b}退还{a}购车款{m}元;{a}将电动车退还{b}|",
)
TEMPLATES: dict[str, list[str]] = defaultdict(list)
for _line in TEMPLATE_LINES:
    TEMPLATES[_line.split("|", 1)[0]].append(_line.split("|", 1)[1])
ORGS = {
    "wages": ("清溪县{v}建筑工程有限公司", "清溪{v}木业有限公司", "清溪县{v}食品厂"),
    "property": ("清溪{v}物业服务有限公司", "{v}物业管理有限公司"),
    "other": ("{v}手机店", "{v}电器商行"),
}
BRANDS = ["鑫源", "恒达", "宏兴", "永安", "溪谷", "金丰", "华泰", "明珠", "佳美", "万家"]
NOTES = {  # what the mediator wrote of a sitting, at each level
    GRID: [
        "网格员到{a}、{b}家中走访，分别听取双方陈述并查看现场，双方情绪基本平稳，约定再次协商。",
        "在网格服务站召集双方面对面协商，讲解相关法律规定和村规民约，双方初步有了谅解意向。",
        "邀请双方亲属参加，背靠背做思想工作，{b}表示愿意考虑{a}的诉求。",
        "第二次协商：双方对具体金额仍有分歧，{a}要求较高，约定三日后再谈。",
    ],
    STATION: [
        "在派出所“枫桥式”调解室召开联调会，民警、律师共同参与，就相关法律规定释法说理。",
        "调解员分别与双方谈心，找准矛盾症结，{b}表示愿意适当让步。",
        "再次组织面对面调解，双方在调解员主持下就履行方式基本达成一致。",
    ],
    JUDICIAL: [
        "司法所人民调解委员会受理后组织调解，人民调解员讲解诉讼风险和成本，双方同意继续协商。",
        "人民调解员会同律师再次调解，双方就赔偿数额和履行期限达成一致。",
    ],
}
ESCALATE = {
    STATION: [
        "双方分歧较大，网格调解未果，提请派出所联调。",
        "涉及金额较大，需律师释法说理，提交派出所联调。",
        "当事人情绪激动，存在矛盾激化风险，提级至派出所调解。",
    ],
    JUDICIAL: ["派出所联调后双方仍未达成一致，移交司法所人民调解委员会。"],
}
FINAL_TERM = "双方就本纠纷再无其他争议，今后互不追究。"
PLACES = {GRID: "网格服务站", STATION: "派出所“枫桥式”调解室", JUDICIAL: "司法所调解室"}
OUTCOME_NOTES = {
    Outcome.ORAL: ("双方达成口头协议，当场履行完毕。", "双方当场握手言和，达成口头协议。"),
    Outcome.RECONCILED: ("经做工作，双方自行和解。", "{b}当面致歉，双方和好如初。"),
    Outcome.FAILED: ("双方分歧过大，调解不成，引导当事人向人民法院起诉。",),
    Outcome.WITHDRAWN: ("申请人撤回调解申请，表示将自行协商处理。",),
}
# The mediators of a station who are not its staff: kind|skills|weekdays|note|organisation.
OUTSIDERS = (
    "lawyer|wages contract property marriage|13|法律顾问，每周到所坐班|福建{law}律师事务所",
    "fengqiao_mediator|family marriage neighbour land|01235|退休教师，从事人民调解二十余年|{town}“老娘舅”调解工作室",
    "fengqiao_mediator|family neighbour land|0123456|退休老干部，熟悉村情民情|{town}“老娘舅”调解工作室",
    "peoples_mediator|land wages contract family|01234|专职人民调解员|清溪县司法局{town}司法所",
)
STAFF = {  # person kind → how many of a station (community officers only), skills
    PersonKind.OFFICER: (3, "neighbour family other"),
    PersonKind.AUXILIARY: (1, "neighbour other"),
    PersonKind.GRID_WORKER: (6, "neighbour family property"),
    PersonKind.VOLUNTEER: (2, "neighbour family"),
}


def build_disputes(session: Session, settings: Settings, *, seed: int) -> str:
    if session.scalar(select(Mediator.id).limit(1)) is not None:
        return _(
            "Disputes: the roster exists already; nothing added ({disputes} disputes)."
        ).format(disputes=session.scalar(select(func.count(Dispute.id))))
    return _Builder(session, settings, seed).run()


class _Builder:
    def __init__(self, session: Session, settings: Settings, seed: int) -> None:
        self.s, self.days = session, settings.dispute_follow_up_days
        self.rng = random.Random(seed + 11)
        self.names = NameMaker(self.rng)
        self.p = system_principal("demo")
        self.cutoff = utcnow() - timedelta(minutes=10)  # nothing happens after this
        self.today = local_day(self.cutoff)
        self.made: list[Any] = []  # rows the services just made, to be dated back
        self.latest: dict[int, datetime] = {}  # the last change of each dispute
        self.roster: dict[int, list[Mediator]] = defaultdict(list)
        self.grid_worker: dict[int, Mediator] = {}  # grid → its grid worker on the roster
        self.officer: dict[int, Mediator] = {}  # grid → its officer on the roster
        self.away: set[tuple[int, K]] = set()  # (station, kind) away now
        self.story: dict[int, tuple[dict[str, Any], str, list[str]]] = {}  # names, facts, terms

    def _track(self, _session: Session, row: Any) -> None:
        if isinstance(row, (*DATED, Dispute)):
            self.made.append(row)

    def stamp(self, dispute: Dispute, at: datetime) -> None:
        """Date what the services just made at ``at`` (they stamp the present)."""
        for row in self.made:
            setattr(row, STAMPED.get(type(row), "created_at"), at)
        self.made.clear()
        dispute.updated_at = self.latest[dispute.id] = max(at, self.latest.get(dispute.id, at))

    def run(self) -> str:
        sa_event.listen(self.s, "transient_to_pending", self._track)
        try:
            self._roster()
            disputes = self._disputes()
            self._revisits(None)
        finally:
            sa_event.remove(self.s, "transient_to_pending", self._track)
        done = sum(d.status is DisputeStatus.RESOLVED for d in disputes)
        waiting = sum(d.status in dm.OPEN_STATUSES for d in disputes)
        people = sum(len(v) for v in self.roster.values())
        line = _(
            "Disputes: {disputes} over two years ({resolved} resolved, {open} open); mediators {mediators}"
        )
        return line.format(disputes=len(disputes), resolved=done, open=waiting, mediators=people)

    # ------------------------------------------------------------------ the roster
    def _name(self, gender: str | None = None) -> tuple[str, str]:
        rng = self.rng
        gender = gender or ("male" if rng.random() < 0.55 else "female")
        given = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
        surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        return surname + "".join(rng.choices(given, k=1 if rng.random() < 0.3 else 2)), gender

    def _add(self, station: Station, kind: K, spec: str, person: Any = None) -> Mediator:
        """One roster entry; ``spec`` is skills|weekdays|note|organisation."""
        skills, days, note, org = spec.split("|")
        away = None
        if (station.id, kind) in self.away:  # on leave, or in court all week
            self.away.discard((station.id, kind))
            away = self.today + timedelta(days=self.rng.randint(3, 12))
        gender = "male" if kind is K.FENGQIAO_MEDIATOR else None
        name, phone = (person.name, person.phone) if person else (self._name(gender)[0], None)
        data = ds.MediatorIn(name=name, kind=kind, organisation=org, note=note, away_until=away)
        data.station_id, data.person_id = station.id, person.id if person else None
        data.phone, data.skills = phone or self.names.phone(), skills.split()
        data.weekdays = [int(c) for c in days]
        row = mediators.save_mediator(self.s, self.p, data)
        self.roster[station.id].append(row)
        return row

    def _roster(self) -> None:
        rng = self.rng
        stations = self.s.scalars(select(Station).order_by(Station.id)).all()
        if stations:
            self.away = {(stations[0].id, K.LAWYER), (stations[-1].id, K.VILLAGE_CADRE)}
        for station in stations:
            town = station.name.removesuffix("派出所")
            staff = self.s.execute(
                select(GridAssignment.grid_id, GridAssignment.role, Person)
                .join(Person, Person.id == GridAssignment.person_id)
                .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
                .where(Person.station_id == station.id, PoliceGrid.active())
                .order_by(PoliceGrid.population.desc(), GridAssignment.grid_id, Person.id)
            ).all()
            chosen: dict[int, Mediator] = {}
            counts: dict[PersonKind, int] = defaultdict(int)
            for grid_id, role, person in staff:
                most, skills = STAFF[person.kind]
                community = person.kind is not PersonKind.OFFICER or person.team is Team.COMMUNITY
                row = chosen.get(person.id)
                if row is None and role is person.kind and community and counts[role] < most:
                    counts[role] += 1
                    kind = mediators.PERSON_KINDS[person.kind]
                    volunteer = kind is K.VOLUNTEER
                    week = "56" if volunteer else rng.choice(("01234", "01234", "012345"))
                    note = "平安志愿者、乡贤" if volunteer else ""
                    row = chosen[person.id] = self._add(
                        station, kind, f"{skills}|{week}|{note}|", person
                    )
                if row is not None and role in (PersonKind.GRID_WORKER, PersonKind.OFFICER):
                    mine = self.grid_worker if role is PersonKind.GRID_WORKER else self.officer
                    mine.setdefault(grid_id, row)
            villages = self.s.scalars(
                select(Address.name)
                .where(Address.station_id == station.id, Address.level == AddressLevel.COMMUNITY)
                .order_by(Address.id)
            ).all()
            for village in rng.sample(list(villages) or [town], min(2, len(villages) or 1)):
                committee = "村委会" if village.endswith("村") else "居委会"
                note = rng.choice(("村支部书记", "村委会主任", "调解委员会主任"))
                spec = f"land family neighbour marriage|01234|{note}|{village}{committee}"
                self._add(station, K.VILLAGE_CADRE, spec)
            for n, line in enumerate(OUTSIDERS):
                if n == 2 and rng.random() < 0.5:
                    continue  # one or two Fengqiao mediators
                code, spec = line.split("|", 1)
                spec = spec.format(town=town, law=rng.choice(("明正", "衡平", "同心")))
                if n == 0 and rng.random() < 0.5:
                    spec = spec.replace("|13|", "|024|")  # the lawyer's days at the station
                self._add(station, K(code), spec)

    # ------------------------------------------------------------------ disputes
    def _disputes(self) -> list[Dispute]:
        rng = self.rng
        where: dict[int, list[int]] = defaultdict(list)
        for address_id, grid_id in self.s.execute(
            select(Address.id, Address.grid_id)
            .where(
                Address.grid_id.is_not(None),
                Address.status == RecordStatus.ACTIVE,
                Address.level.in_((AddressLevel.NUMBER, AddressLevel.BUILDING)),
            )
            .order_by(Address.id)
        ):
            where[grid_id or 0].append(address_id)
        query = select(PoliceGrid).where(PoliceGrid.active()).order_by(PoliceGrid.id)
        grids = [g for g in self.s.scalars(query) if where[g.id]]
        if not grids:
            return []
        calls: dict[date, list[int]] = defaultdict(list)  # calls passed on to mediation
        for incident_id, received in self.s.execute(
            select(Incident.id, Incident.received_at)
            .join(IncidentCategory, IncidentCategory.id == Incident.category_id)
            .where(
                IncidentCategory.code.like("06%"),
                Incident.disposition == "dispute",
                Incident.grid_id.is_not(None),
                Incident.reporter_name.is_not(None),
                Incident.received_at >= at_local(self.today - timedelta(days=DAYS), 0),
            )
            .order_by(Incident.id)
        ):
            calls[local_day(received)].append(incident_id)
        out: list[Dispute] = []
        for back in range(DAYS - 1, -1, -1):
            day = self.today - timedelta(days=back)
            festive = min(abs((day - sf).days + 5) for sf in SPRING_FESTIVAL) <= 15
            # Busier around the Spring Festival; the last days' leave work in hand.
            mean = PER_DAY * (1.8 if festive else 2.0 if back < 10 else 1.0)
            for _n in range(sum(rng.random() < mean / 6 for _i in range(6))):
                if calls.get(day) and rng.random() < 0.2:
                    out.append(self._convert(calls[day].pop()))
                    continue
                grid = rng.choices(grids, weights=[g.population for g in grids])[0]
                address = self.s.get_one(Address, rng.choice(where[grid.id]))
                out.append(self._register(day, address, grid.kind.value, festive))
        return out

    def _template(self, kind: str, area: str) -> tuple[str, str, list[str], str, int]:
        wrong = "R" if area == "urban" else "U"
        fitting = [t for t in TEMPLATES[kind] if wrong not in t.rsplit("|", 1)[1]]
        title, facts, terms, flags = self.rng.choice(fitting or TEMPLATES[kind]).split("|")
        money = round(self.rng.uniform(*KINDS[kind][2:]) / 100) * 100
        return title, facts, terms.split(";"), flags, money

    def _party(self, side: dm.PartySide, gender: str | None, day: date, **extra: Any) -> ds.PartyIn:
        rng = self.rng
        name, gender = self._name(gender)
        name = extra.pop("surname", name[0]) + name[1:]
        number = None
        if rng.random() < 0.5:  # an identity-card number with a valid check character
            born = day - timedelta(days=rng.randint(20 * 365, 75 * 365))
            seq = rng.randrange(0, 500) * 2 + (gender == "male")
            first17 = f"3508{rng.choice(('21', '22', '24', '25'))}{born:%Y%m%d}{seq:03d}"
            number = first17 + check_character(first17)
        phone = self.names.phone() if rng.random() < 0.92 else None
        return ds.PartyIn(
            side=side, name=name, gender=gender, id_number=number, phone=phone, **extra
        )

    def _parties(self, kind: str, flags: str, day: date, address: str) -> list[ds.PartyIn]:
        rng = self.rng
        gender = "female" if "F" in flags else ("male" if "S" in flags else None)
        a = self._party(dm.PartySide.APPLICANT, gender, day, address=address)
        if "O" in flags:
            org = rng.choice(ORGS.get(kind, ORGS["other"])).format(v=rng.choice(BRANDS))
            phone = f"0597{rng.randrange(2_000_000, 9_999_999)}"
            b = ds.PartyIn(
                side=dm.PartySide.RESPONDENT, name=org, is_organisation=True, phone=phone
            )
        else:
            family = {"surname": a.name[0]} if "S" in flags else {}
            gender = "male" if "F" in flags or "S" in flags else None
            b = self._party(dm.PartySide.RESPONDENT, gender, day, **family)
        parties = [a, b]
        if "T" in flags:
            parties.append(self._party(dm.PartySide.APPLICANT, "male", day, address=address))
        if "P" in flags:
            parties.append(self._party(dm.PartySide.THIRD, "female", day, vulnerable=True))
        return parties

    def _risk(self, money: int, flags: str) -> dict[str, Any]:
        """Mostly yellow, about one in six orange, a few red."""
        rng, roll = self.rng, self.rng.random()
        people = rng.randint(8, 14) if "T" in flags else rng.randint(2, 5)
        answers: dict[str, Any] = {"people": people, "money": money, "vulnerable": "P" in flags}
        if roll < 0.02:
            answers["threats"] = True
        elif roll < 0.2:
            raised = ({"violence": True}, {"long_standing": True, "vulnerable": True})
            answers.update(rng.choice((*raised, {"repeated_calls": 3})))
        elif rng.random() < 0.3:
            answers["long_standing"] = True
        if roll >= 0.2 and assess(answers).level.value != "yellow":
            answers.update(long_standing=False, vulnerable=False, people=min(people, 9))
        return answers

    def _register(self, day: date, address: Address, area: str, festive: bool) -> Dispute:
        rng = self.rng
        weights = [float(w[0] if area == "urban" else w[1]) for w in KINDS.values()]
        if festive:  # wages before the New Year, families when they gather
            boost = {"wages": 3.0, "family": 1.5}
            weights = [w * boost.get(k, 1.0) for k, w in zip(KINDS, weights, strict=True)]
        kind = rng.choices(list(KINDS), weights=weights)[0]
        title, facts, terms, flags, money = self._template(kind, area)
        parties = self._parties(kind, flags, day, address.full_name)
        t0 = at_local(day, rng.randint(8, 19), rng.randint(0, 59))
        if t0 >= self.cutoff:
            t0 = self.cutoff - timedelta(minutes=rng.randint(5, 120))
        sources = (dm.DisputeSource.VISIT, dm.DisputeSource.GRID_WORKER, dm.DisputeSource.RESIDENT)
        fields = {"a": parties[0].name, "b": parties[1].name, "m": money}
        data = ds.DisputeIn(
            type_code=kind,
            title=title,
            summary=facts.format(**fields),
            source=rng.choices((*sources, dm.DisputeSource.OTHER), weights=(30, 35, 30, 5))[0],
            address_id=address.id,
            found_on=local_day(t0),
            parties=parties,
            risk=self._risk(money, flags),
        )
        dispute, _new = service.register(self.s, self.p, data)
        self.stamp(dispute, t0)
        dispute.number = service.number_for(dispute)  # as on the day it was dated
        self.story[dispute.id] = fields, facts, terms
        self._mediate(dispute, t0)
        return dispute

    def _convert(self, incident_id: int) -> Dispute:
        """A call passed on to mediation: the caller is the applicant; the other side
        and the risk are added when the grid worker takes it up."""
        rng = self.rng
        incident = self.s.get_one(Incident, incident_id)
        dispute, _new = conversion.convert_incident(self.s, self.p, incident_id)
        t0 = incident.received_at + timedelta(minutes=rng.randint(40, 240))
        t0 = min(t0, self.cutoff - timedelta(hours=2))
        self.stamp(dispute, t0)
        dispute.number = service.number_for(dispute)  # as on the day it was dated
        grid = self.s.get_one(PoliceGrid, dispute.grid_id)
        _title, facts, terms, flags, money = self._template(dispute.type_code, grid.kind.value)
        flags = flags.replace("T", "").replace("P", "")
        other = self._parties(dispute.type_code, flags, dispute.found_on or self.today, "")[1]
        service.add_party(self.s, self.p, dispute.id, other)
        calls = dispute.risk_answers.get("repeated_calls", 0)
        risk = {**self._risk(money, flags), "repeated_calls": calls}
        service.assess_risk(self.s, self.p, dispute.id, ds.RiskIn(risk=risk))
        taken = t0 + timedelta(minutes=rng.randint(10, 90))
        self.stamp(dispute, taken)
        fields = {"a": incident.reporter_name, "b": other.name, "m": money}
        self.story[dispute.id] = fields, facts, terms
        self._mediate(dispute, taken)
        return dispute

    def _day(self, at: datetime) -> datetime:
        """``at``, or the next morning when it falls outside the working day (8–20 h)."""
        local = at.astimezone(CHINA_TZ)
        if 8 <= local.hour < 20:
            return at
        day = local.date() + timedelta(days=local.hour >= 20)
        return at_local(day, 9, self.rng.randint(0, 59))

    # ------------------------------------------------------------------ mediation
    def _team(self, dispute: Dispute, level: MediationLevel, day: date) -> list[Mediator]:
        """Who mediates at ``level``: the lead first (those working that day)."""
        rng, grid_id = self.rng, dispute.grid_id or 0
        pool = [m for m in self.roster[dispute.station_id or 0] if mediators.serves_at(m, level)]
        working = [m for m in pool if day.weekday() in m.weekdays] or pool

        def one(*kinds: K) -> Mediator:
            return rng.choice([m for m in working if m.kind in kinds] or pool)

        officer = self.officer.get(grid_id)
        if level is GRID:
            lead = self.grid_worker.get(grid_id) or one(K.GRID_WORKER)
            helper = one(K.VILLAGE_CADRE, K.VOLUNTEER)
            second = officer if officer and rng.random() < 0.5 else helper
            return [lead, second] if rng.random() < 0.3 and second is not lead else [lead]
        if level is STATION:
            legal = dispute.type_code in ("wages", "contract", "property")
            lead = one(K.LAWYER) if legal else one(K.FENGQIAO_MEDIATOR, K.VILLAGE_CADRE)
            second = officer or one(K.OFFICER)
            return [lead, second] if second is not lead else [lead]
        lead, second = one(K.PEOPLES_MEDIATOR), one(K.LAWYER)
        return [lead, second] if rng.random() < 0.5 and second is not lead else [lead]

    def _plan(self, dispute: Dispute) -> tuple[MediationLevel, Outcome, int]:
        """The level it ends at, the outcome and the days from found to the end."""
        rng, risky = self.rng, dispute.risk_level.value != "yellow"
        roll = rng.random()
        level = GRID
        if roll < (0.45 if risky else 0.18):
            level = JUDICIAL if roll < (0.08 if risky else 0.025) else STATION
        # Fewer failures since grid policing and the joint station began a year ago.
        recent = (self.today - (dispute.found_on or self.today)).days < 365
        roll, low = rng.random() * (2 if recent else 1), level is GRID
        if roll < (0.008 if low else 0.035):
            outcome = Outcome.FAILED
        elif roll < (0.012 if low else 0.05):
            outcome = Outcome.WITHDRAWN
        elif not low:
            outcome = Outcome.AGREEMENT if rng.random() < 0.85 else Outcome.ORAL
        else:
            choices = (Outcome.AGREEMENT, Outcome.ORAL, Outcome.RECONCILED)
            outcome = rng.choices(choices, weights=(25, 55, 20))[0]
        if level is GRID:
            return level, outcome, rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10))
        return level, outcome, rng.randint(5, 30) if level is STATION else rng.randint(15, 45)

    def _mediate(self, d: Dispute, t0: datetime) -> None:
        """Mediators, sittings, escalations and the outcome, each on its day; what would
        happen after now does not happen (the dispute stays open)."""
        rng, fields = self.rng, self.story[d.id][0]
        level, outcome, days = self._plan(d)
        at = self._day(t0 + timedelta(hours=rng.uniform(0.5, 20)))
        if (self.today - local_day(t0)).days < 3 and rng.random() < 0.6:
            at += timedelta(days=rng.randint(1, 4))  # not yet taken up
        found = local_day(t0)
        ends = {GRID: days if level is GRID else rng.randint(1, min(5, days - 2))}
        if level is not GRID:
            last = days if level is STATION else rng.randint(max(ends[GRID] + 2, 5), days - 5)
            ends[STATION] = last
        if level is JUDICIAL:
            ends[JUDICIAL] = days
        for step, end_day in ends.items():
            if step is not GRID:
                at = self._day(at + timedelta(hours=rng.uniform(1, 8)))
                if at >= self.cutoff:
                    return
                reason = rng.choice(ESCALATE[step])
                mediation.escalate(self.s, self.p, d.id, ds.EscalateIn(to=step, reason=reason))
                self.stamp(d, at)
            if at >= self.cutoff:
                return
            team = self._team(d, step, local_day(at))
            ids = [m.id for m in team]
            for i, m in enumerate(ids):
                mediation.assign(self.s, self.p, d.id, m, lead=i == 0)
            self.stamp(d, at)
            end = at_local(found + timedelta(days=end_day), rng.randint(9, 17), rng.randint(0, 59))
            end = max(end, at + timedelta(hours=2))
            sittings = 1 if end_day <= 3 or rng.random() < 0.5 else 2
            for k in range(sittings):
                held = self._day(at + (end - at) * (k + 0.5) / sittings)
                if held >= self.cutoff:
                    return
                note = rng.choice(NOTES[step][:2] if k == 0 else NOTES[step][1:]).format(**fields)
                place = "当事人家中" if step is GRID and k == 0 else PLACES[step]
                sit = ds.SessionIn(held_at=held, place=place, mediator_ids=ids, notes=note)
                sit.attendees = f"{fields['a']}、{fields['b']}"
                mediation.record_session(self.s, self.p, d.id, sit)
                self.stamp(d, held)
                end = max(end, self._day(held + timedelta(hours=1)))
            at = end
        if at >= self.cutoff:
            return
        self._conclude(d, outcome, at)
        if d.status is DisputeStatus.RESOLVED and rng.random() < 0.025:
            self._flare(d, at)

    def _conclude(self, d: Dispute, outcome: Outcome, at: datetime) -> None:
        fields, facts, terms = self.story[d.id]
        if outcome is Outcome.AGREEMENT:
            signed = local_day(at)
            due = signed + timedelta(days=self.rng.choice((7, 10, 15, 30)))
            text = facts.format(**fields) + "经调解，双方本着互谅互让的原则，自愿达成如下协议。"
            agreed = [t.format(**fields) for t in (*terms, FINAL_TERM)]
            how = f"{fields['b']}于{due.year}年{due.month}月{due.day}日前履行完毕；本协议一式三份，双方当事人及调解组织各执一份。"
            data = ds.AgreementIn(facts=text, terms=agreed, performance=how, signed_on=signed)
            agreements.draw_up(self.s, self.p, d.id, data, revisit_days=self.days, at=at)
        else:
            note = self.rng.choice(OUTCOME_NOTES[outcome]).format(**fields)
            # What record_outcome does, on the day it happened (it stamps the present).
            service.require_open(d)
            mediation.conclude(self.s, self.p, d, outcome, note=note, revisit_days=self.days, at=at)
        self.stamp(d, at)

    def _flare(self, d: Dispute, settled: datetime) -> None:
        """A revisit finds the dispute flared up: re-opened, mediated and settled again."""
        rng, fields = self.rng, self.story[d.id][0]
        flare = self._day(settled + timedelta(days=rng.randint(6, 25), hours=rng.uniform(0, 6)))
        if flare + timedelta(days=8) >= self.cutoff:
            return
        self._revisits(d, before=local_day(flare))
        note = "回访发现双方再次因同一问题发生争执。"
        service.event(self.s, self.p.actor, d, "revisited", situation="flared", note=note)
        reason = "回访时发现纠纷再次激化，一方未按约定履行。"
        mediation.reopen_dispute(self.s, self.p, d, reason=reason)
        d.reopened_at = flare
        self.stamp(d, flare)
        held = flare + timedelta(days=rng.randint(1, 3))
        team = [m.id for link, m in mediation.mediators_of(self.s, d.id) if link.level is d.level]
        notes = f"再次召集{fields['a']}、{fields['b']}调解，重申原协议内容，督促履行。"
        sitting = ds.SessionIn(held_at=held, mediator_ids=team, notes=notes)
        mediation.record_session(self.s, self.p, d.id, sitting)
        self.stamp(d, held)
        outcome = Outcome.AGREEMENT if d.level is not GRID or rng.random() < 0.4 else Outcome.ORAL
        self._conclude(d, outcome, held + timedelta(days=rng.randint(1, 4)))

    def _revisits(self, dispute: Dispute | None, *, before: date | None = None) -> None:
        """Revisits due were done (the grid officers went), but the last days' are today's
        tasks and later ones wait. All the demo's disputes, or one up to ``before``."""
        query = select(FollowUp).where(
            FollowUp.dispute_id.is_not(None),
            FollowUp.status == FollowUpStatus.PENDING,
            FollowUp.due_on < (before or self.today - timedelta(days=4)),
        )
        if dispute is not None:
            query = query.where(FollowUp.dispute_id == dispute.id)
        for row in self.s.scalars(query):
            row.status = FollowUpStatus.DONE
